"""Publishing: what an export holds (contents), the workbook, the board pack (HTML, PDF,
PowerPoint), the template for a month; :mod:`kpis.publish.formats` is the one registry of
export formats."""

EXPORT_FORMATS = ("csv", "xlsx", "html", "pdf", "pptx")  # a writer each in kpis.publish.formats

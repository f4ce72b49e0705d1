"""Registry import, split by concern.

``columns`` is the file format (shared with the exporter, so export and import stay in step),
``sources`` opens and checks the uploaded file and streams its rows, ``rows`` validates one
row, ``writer`` writes validated rows in batches, ``workbooks`` builds the template and the
error workbook, and ``results`` holds what the caller gets back. The public entry point is
``gongzhi.housing.importer``.
"""

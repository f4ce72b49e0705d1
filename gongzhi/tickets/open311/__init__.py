"""Open311 GeoReport v2 endpoint, with mySociety's service request updates extension.

``views`` are thin: ``params`` reads and checks what the client sent, ``public`` decides
which tickets, events and photos are public and builds the rows, ``render`` writes the same
rows as XML or JSON, and ``updates`` is the one change a partner can make besides filing a
request. Filing itself goes through ``gongzhi.tickets.actions.file_ticket``.
"""

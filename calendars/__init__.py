"""iCalendar export and feeds (RFC 5545): the only package that imports icalendar."""

"""Pages of Notion's public API reference that user-facing messages cite for Notion's own rules.

Messages name a page a user can open (its title and address), never the project's internal
notes. Each constant is `Notion API "<page title>", <address>`.
"""

#: Size limits of request parameters: 2,000 characters of text, 100 items per array, 500 KB.
REQUEST_LIMITS = 'Notion API "Request limits", developers.notion.com/reference/request-limits'
#: Property types, their configuration, option names (no comma) and colours.
PROPERTY_OBJECT = 'Notion API "Property object", developers.notion.com/reference/property-object'
#: What a schema write can change: not the title's type, not existing options' names or colours,
#: not status options.
UPDATE_PROPERTIES = ('Notion API "Update data source properties", '
                     'developers.notion.com/reference/update-data-source-properties')

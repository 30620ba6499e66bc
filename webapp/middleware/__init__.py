"""Request middleware: the farmer's language, a body over the limit refused unread, and a friendly
answer when the database is down."""

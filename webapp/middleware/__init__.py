"""Request middleware: the farmer's language, and a friendly answer when the database is down."""

"""Schools: registering schools, parents joining (by code or CSV import), children
(stage only), meetings and invitations. Domain rules live here; the SQL is in
bot/storage/schools.py and bot/storage/meetings.py; the REST API (bot/web/api.py) and
the CLI (bot/cli/school.py) are thin layers over these modules."""

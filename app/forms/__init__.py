"""Flask-WTF forms. Labels use lazy gettext: they are created at import time."""

"""Workbooks: headers + rows → sheets, with the formula guard."""

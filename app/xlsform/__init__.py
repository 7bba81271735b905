"""XLSForm: reading, validating and writing questionnaire definitions, and the expression
language (parsed once per questionnaire version, evaluated per request)."""

//! The behavioural store suite lives in `tests/`; every test runs once per backend.

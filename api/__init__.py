"""The FastAPI core: the public door of the banking assistant platform."""

"""The only Streamlit code: session helpers, cached reads and pages."""

"""The support-service directory and confidential help requests."""

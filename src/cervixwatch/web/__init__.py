"""The web layer: JSON API, FHIR R4 facade (and later pages). Routes call use cases only."""

"""Views of assessments: JSON for machines, text for clinicians."""

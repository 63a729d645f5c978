"""The FHIR R4 facade under /fhir."""

from fastapi import APIRouter

router = APIRouter()

"""The JSON API under /api (OpenAPI at /docs)."""

from fastapi import APIRouter

router = APIRouter()

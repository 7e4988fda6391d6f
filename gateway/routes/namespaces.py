from fastapi import APIRouter

from gateway.deps import Caller

router = APIRouter(prefix="/api/v1", tags=["namespaces"])


@router.get("/namespaces")
async def list_namespaces(who: Caller) -> list[str]:
    """The namespace the key belongs to."""
    return [who.name]

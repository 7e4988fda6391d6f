"""A FastAPI app, deployed to Stratus as one web action (see README, "Web apps as one function").

Locally: `pip install -r requirements.txt uvicorn && uvicorn --app-dir examples/fastapi_app __main__:app`.
"""

import base64
from typing import Annotated

from fastapi import Cookie, FastAPI, Form, HTTPException, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

app = FastAPI(title="Stratus FastAPI example")

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
ITEMS: dict[int, dict[str, object]] = {1: {"id": 1, "name": "pen", "price": 1.5}}


class NewItem(BaseModel):
    name: str
    price: float


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return "<h1>Hello from FastAPI on Stratus</h1>"


@app.get("/items/{item_id}")
async def get_item(item_id: int, verbose: bool = False) -> dict[str, object]:
    """A typed path parameter and a query parameter; 404 through HTTPException."""
    if item_id not in ITEMS:
        raise HTTPException(status_code=404, detail="item not found")
    item = ITEMS[item_id]
    return item | {"verbose": True} if verbose else item


@app.post("/items", status_code=201)
async def create_item(item: NewItem) -> dict[str, object]:
    """A JSON body validated by pydantic (422 when it does not fit)."""
    new_id = max(ITEMS) + 1
    ITEMS[new_id] = {"id": new_id, "name": item.name, "price": item.price}
    return ITEMS[new_id]


@app.post("/login")
async def login(response: Response, username: Annotated[str, Form()]) -> dict[str, str]:
    """A form body; sets a cookie."""
    response.set_cookie("user", username)
    return {"welcome": username}


@app.get("/me")
async def me(user: Annotated[str | None, Cookie()] = None) -> dict[str, str | None]:
    return {"user": user}


@app.get("/pixel.png")
async def pixel() -> Response:
    return Response(PIXEL, media_type="image/png")

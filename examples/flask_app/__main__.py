"""The seeds' Flask test app, deployed to Stratus as one web action (see README, "Web apps as one function").

Locally: `pip install -r requirements.txt && python examples/flask_app` serves it on http://127.0.0.1:5000.
"""

import base64

from flask import Flask, jsonify, make_response, request

app = Flask(__name__)

PIXEL = base64.b64decode(  # a 1x1 PNG, to show binary responses
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@app.get("/")
def index() -> str:
    return "<h1>Hello from Flask on Stratus</h1>"


@app.get("/user/<name>")
def user(name: str) -> object:
    """GET with a path parameter."""
    return jsonify(user=name, greeting=f"Hello {name}!")


@app.post("/login")
def login() -> object:
    """POST a form; sets a session cookie."""
    username = request.form.get("username", "")
    if request.form.get("password") != "secret":
        return jsonify(error="wrong password"), 401
    response = make_response(jsonify(welcome=username))
    response.set_cookie("session", f"user-{username}", httponly=True)
    response.set_cookie("theme", "dark")
    return response


@app.get("/me")
def me() -> object:
    """Reads the cookie set by /login."""
    session = request.cookies.get("session")
    if session is None:
        return jsonify(error="not logged in"), 401
    return jsonify(session=session, agent=request.headers.get("User-Agent", ""))


@app.get("/search")
def search() -> object:
    """GET with query parameters."""
    query = request.args.get("q", "")
    limit = int(request.args.get("limit", "3"))
    return jsonify(query=query, results=[f"{query}-{i}" for i in range(limit)])


@app.route("/cut", methods=["GET", "POST"])
def cut() -> object:
    """Chinese text segmentation with jieba (its dictionary loads on the first call)."""
    import jieba

    text = request.args.get("text") or request.form.get("text") or (request.get_json(silent=True) or {}).get("text", "")
    return jsonify(text=text, words=jieba.lcut(text))


@app.get("/pixel.png")
def pixel() -> object:
    response = make_response(PIXEL)
    response.headers["Content-Type"] = "image/png"
    return response


if __name__ == "__main__":
    app.run()

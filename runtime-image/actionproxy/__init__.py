"""The Stratus action proxy: OpenWhisk's runtime protocol (POST /init, POST /run) for Python functions.

Runs inside function containers (the runtime image); imports nothing of the platform or the client side.
"""

"""The Stratus action proxy: OpenWhisk's runtime protocol (POST /init, POST /run) for Python functions.

Runs inside function containers; imports nothing from `stratus`.
"""

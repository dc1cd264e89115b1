"""How the product is served: `manage.py serve` runs gunicorn's process manager with our
uvicorn worker (workers), Django's request handler split by path and with remembered URL
resolutions (handlers), and the bridge that runs Django's views in a thread pool under ASGI
(wsgi_bridge).

Part of the ground: it imports nothing from accounts, permissions or rooms.
"""

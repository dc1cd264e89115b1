"""How the product is served: `manage.py serve` runs gunicorn's process manager with our
uvicorn worker (workers), Django's request handler split by path and with remembered URL
resolutions (handlers), and the bridge that runs Django's views in a thread pool under ASGI
(wsgi_bridge). Before it serves: whether HOST:PORT is free (ports, standard library only, which
`make run` asks first), and what a start-up says, configuration errors included (preflight).

Part of the ground: it imports nothing from accounts, permissions or rooms.
"""

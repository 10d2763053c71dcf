"""The tray: a face on the daemon. `model` decides what to show from the daemon's status (pure,
tested without a display), `icons` draws the images with Pillow, `app` puts them in the system
tray with pystray (imported lazily) and forwards clicks through the control channel."""

"""A minimal system tray for tests under Xvfb (python-xlib): it owns the _NET_SYSTEM_TRAY_S0
selection, docks the icon windows that ask (the freedesktop system tray protocol, as pystray's
xorg backend speaks it) side by side in a white strip at the top left of the screen, and
prints "docked <window id>" for each.

    python xtray.py            (DISPLAY names the X server)
"""

from __future__ import annotations

import sys

from Xlib import X, display
from Xlib.protocol import event

ICON = 48
REQUEST_DOCK = 0


def main() -> None:
    d = display.Display()
    screen = d.screen()
    root = screen.root
    strip = root.create_window(0, 0, ICON * 4, ICON, 0, screen.root_depth, X.InputOutput,
                               X.CopyFromParent, background_pixel=screen.white_pixel,
                               event_mask=X.StructureNotifyMask | X.SubstructureNotifyMask)
    strip.map()
    selection = d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}")
    opcode = d.intern_atom("_NET_SYSTEM_TRAY_OPCODE")
    strip.set_selection_owner(selection, X.CurrentTime)
    root.send_event(event.ClientMessage(
        window=root, client_type=d.intern_atom("MANAGER"),
        data=(32, [X.CurrentTime, selection, strip.id, 0, 0])),
        event_mask=X.StructureNotifyMask)
    d.flush()
    print("ready", flush=True)
    docked: list[int] = []
    while True:
        ev = d.next_event()
        if ev.type == X.ClientMessage and ev.client_type == opcode:
            _, data = ev.data
            if data[1] != REQUEST_DOCK or data[2] in docked:  # asked again: already here
                continue
            x = len(docked) * ICON
            icon = d.create_resource_object("window", data[2])
            icon.reparent(strip, x, 0)
            icon.configure(x=x, y=0, width=ICON, height=ICON)
            icon.map()
            d.flush()
            docked.append(data[2])
            print(f"docked {data[2]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())

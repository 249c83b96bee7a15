"""typist.py FILE: the window a person is typing into when a question appears: a text entry
that takes the focus and writes what it holds to FILE on every change (tests/gui)."""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402


def changed(entry):
    with open(sys.argv[1], "w") as f:
        f.write(entry.get_text())


window = Gtk.Window(title="typist")
window.set_default_size(600, 100)
window.move(300, 700)
entry = Gtk.Entry()
entry.connect("changed", changed)
entry.connect("activate", lambda e: changed(e))
window.add(entry)
window.connect("destroy", Gtk.main_quit)
window.show_all()
window.present()
Gtk.main()

"""``teller serve``: textual-serve with a page that needs nothing from outside this host.

textual-serve's own page loads Roboto Mono from a public CDN and has no Chinese font, so in a
branch without internet, on a PC without Chinese fonts, every label is a box. This server:

* renders our copy of the page (``screens/web/app_index.html``): no external URL; latin from
  textual-serve's bundled Roboto Mono (its ``/static``), Chinese from ``/fonts/cjk``;
* sends, at ``/fonts/cjk``, a CJK-capable font file from this machine: the ``web_cjk_font``
  setting (``TELLER_WEB_CJK_FONT``), else the first of :data:`CJK_FONT_CANDIDATES` that exists
  (Debian: ``apt-get install fonts-wqy-microhei`` or ``fonts-noto-cjk``). Nothing is bundled in
  the repository. Without one, the page falls back to :data:`FONT_FAMILIES` (fonts installed
  where the browser runs);
* starts the terminal once the fonts are loaded and focuses it, so keys typed right after the
  page loads reach the sign-in field.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

__all__ = ["CJK_FONT_CANDIDATES", "FONT_FAMILIES", "TellerServer", "find_cjk_font", "font_bytes"]

TEMPLATES = Path(__file__).resolve().parent / "web"
#: Where Debian/Ubuntu/Fedora put the usual CJK fonts (monospace faces first).
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansMonoCJKsc-Regular.otf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
#: The page's own font stack (the terminal's comes from textual.js and gets CJK via @font-face).
FONT_FAMILIES = ("'Roboto Mono', 'Noto Sans Mono CJK SC', 'WenQuanYi Micro Hei Mono', 'Noto Sans CJK SC', "
                 "'Microsoft YaHei', 'PingFang SC', monospace")
_FONT_TYPES = {".ttf": "font/ttf", ".otf": "font/otf", ".ttc": "font/collection", ".woff2": "font/woff2",
               ".woff": "font/woff"}


def font_bytes(path: Path, face: int = 0) -> tuple[bytes, str]:
    """The font to send and its media type. Browsers do not load TrueType collections (``.ttc``, how
    Noto CJK and WenQuanYi ship): one face is copied out of the collection into a plain sfnt."""
    data = path.read_bytes()
    if data[:4] != b"ttcf":
        return data, _FONT_TYPES.get(path.suffix.lower(), "application/octet-stream")
    (count,) = struct.unpack_from(">I", data, 8)
    (start,) = struct.unpack_from(">I", data, 12 + 4 * min(face, count - 1))
    flavor, tables = struct.unpack_from(">IH", data, start)
    entries = [struct.unpack_from(">4sIII", data, start + 12 + 16 * i) for i in range(tables)]
    offset = 12 + 16 * tables
    header = bytearray(data[start:start + 12])
    directory, body = bytearray(), bytearray()
    for tag, checksum, table_offset, length in entries:
        directory += struct.pack(">4sIII", tag, checksum, offset + len(body), length)
        body += data[table_offset:table_offset + length]
        body += b"\0" * (-len(body) % 4)  # tables start on 4-byte boundaries
    header[0:4] = struct.pack(">I", flavor)
    return bytes(header + directory + body), "font/otf" if flavor == 0x4F54544F else "font/ttf"


def find_cjk_font(configured: Path | None = None) -> Path | None:
    """The font file to send: the configured one (which must exist), else the first candidate found."""
    if configured is not None:
        path = Path(configured).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"web_cjk_font {path} does not exist")
        return path
    return next((Path(p) for p in CJK_FONT_CANDIDATES if Path(p).is_file()), None)


class TellerServer(Server):
    """textual-serve's server with our page template and a ``/fonts/cjk`` route."""

    def __init__(self, command: str, *, cjk_font: Path | None, **kwargs: Any) -> None:
        super().__init__(command, templates_path=TEMPLATES, **kwargs)
        self.cjk_font = cjk_font
        self._font: tuple[bytes, str] | None = None

    async def _make_app(self) -> web.Application:
        # textual-serve has no public hook for extra routes: add ours to the application it builds
        # (tests/test_serve_browser.py fails if a new textual-serve version changes this).
        app = await super()._make_app()
        app.router.add_get("/fonts/cjk", self.handle_cjk_font, name="cjk_font")
        return app

    async def handle_cjk_font(self, request: web.Request) -> web.StreamResponse:
        if self.cjk_font is None:
            raise web.HTTPNotFound()
        if self._font is None:
            self._font = font_bytes(self.cjk_font)
        body, media_type = self._font
        return web.Response(body=body, content_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        # textual-serve's context (websocket and static URLs), undecorated, plus our font settings.
        context: dict[str, Any] = await Server.handle_index.__wrapped__(self, request)  # type: ignore[attr-defined]
        context["cjk_font_url"] = f"{self.public_url}/fonts/cjk" if self.cjk_font is not None else ""
        context["font_families"] = FONT_FAMILIES
        return context

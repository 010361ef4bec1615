"""``/docs`` works with no internet: the page and Swagger UI's files come from this server."""

from __future__ import annotations

import re

from tests.api.conftest import ApiServer


def test_docs_page_loads_every_file_from_the_server_itself(api_server: ApiServer) -> None:
    with api_server.client() as http:
        page = http.get("/docs")
        assert page.status_code == 200
        assert "swagger-ui" in page.text
        urls = re.findall(r"""(?:src|href|url)\s*[:=]\s*['"]([^'"]+)['"]""", page.text)
        assert urls, page.text
        assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], urls
        for url in urls:
            r = http.get(url)
            assert r.status_code == 200, url
        js = http.get("/docs-assets/swagger-ui-bundle.js")
        assert js.headers["content-type"].startswith(("application/javascript", "text/javascript"))
        assert len(js.content) > 100_000

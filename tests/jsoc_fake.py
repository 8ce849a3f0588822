"""JSOC answered from recorded-like tables, or unreachable: the one patch aiapy's queries need.

aiapy's correction-table and pointing-table fetches both go through
``aiapy.calibrate.util._get_data_from_jsoc``; tests replace it here and point
the package cache at a temporary directory.
"""


def fake_jsoc(monkeypatch, tmp_path, *, answer=None, error=None):
    """Replace aiapy's JSOC query by ``answer(query)`` or by raising ``OSError(error)``.

    Returns
    -------
    list
        ``(query, key)`` of every call answered.
    """
    import aiapy.calibrate.util as util

    calls = []

    def query_jsoc(query, *, key, seg=None):
        if error is not None:
            raise OSError(error)
        calls.append((query, key))
        return answer(query)

    monkeypatch.setattr(util, "_get_data_from_jsoc", query_jsoc)
    monkeypatch.setenv("SOLAR_EUV_CACHE", str(tmp_path / "cache"))
    return calls

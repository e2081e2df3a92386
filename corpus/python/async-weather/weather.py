"""weather-mcp: forecasts and alerts from the US National Weather Service, plus radar images."""

import base64
import logging
from typing import Any

import aiohttp
from mcp.server.fastmcp import FastMCP, Image

NWS_API = "https://api.weather.gov"
GEOCODER = "https://nominatim.openstreetmap.org/search"
USER_AGENT = "weather-mcp/1.2 (contact@example.com)"

log = logging.getLogger("weather-mcp")
# ruleid: dangerous-tools-without-rate-limit
mcp = FastMCP("weather")


async def nws_get(session: aiohttp.ClientSession, url: str) -> dict[str, Any] | None:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/geo+json"}
    try:
        # Callers pass URLs on api.weather.gov, except station_observation, whose prefix check
        # does not fix the host.
        # ruleid: request-to-tool-chosen-url
        async with session.get(url, headers=headers, timeout=aiohttp.ClientTimeout(total=30)) as resp:
            resp.raise_for_status()
            return await resp.json()
    except aiohttp.ClientError as e:
        log.warning("NWS request failed: %s", e)
        return None


@mcp.tool()
async def get_alerts(state: str) -> str:
    """Active weather alerts for a US state (two-letter code, e.g. CA)."""
    if len(state) != 2 or not state.isalpha():
        return "Please give a two-letter state code."
    async with aiohttp.ClientSession() as session:
        data = await nws_get(session, f"{NWS_API}/alerts/active/area/{state.upper()}")
    if not data or not data.get("features"):
        return "No active alerts."
    alerts = []
    for feature in data["features"][:10]:
        p = feature["properties"]
        alerts.append(f"{p['event']} - {p.get('areaDesc', '')}\n{p.get('description', '')}\n{p.get('instruction') or ''}")
    # ruleid: untrusted-content-returned-unmarked
    return "\n---\n".join(alerts)


@mcp.tool()
async def get_forecast(latitude: float, longitude: float) -> str:
    """The forecast for a location."""
    async with aiohttp.ClientSession() as session:
        points = await nws_get(session, f"{NWS_API}/points/{float(latitude):.4f},{float(longitude):.4f}")
        if not points:
            return "Unable to fetch forecast data for this location."
        forecast = await nws_get(session, points["properties"]["forecast"])
    if not forecast:
        return "Unable to fetch the detailed forecast."
    periods = forecast["properties"]["periods"][:5]
    lines = [f"{p['name']}: {p['temperature']}°{p['temperatureUnit']}, wind {p['windSpeed']} {p['windDirection']}"
             for p in periods]
    # ok: untrusted-content-returned-unmarked
    return "\n".join(lines)


@mcp.tool()
async def geocode(place: str) -> dict:
    """Latitude and longitude of a place name."""
    async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as session:
        # ok: request-to-tool-chosen-url
        async with session.get(GEOCODER, params={"q": place, "format": "json", "limit": 1}) as resp:
            results = await resp.json()
    if not results:
        return {"error": f"no match for {place}"}
    # ok: untrusted-content-returned-unmarked
    return {"lat": float(results[0]["lat"]), "lon": float(results[0]["lon"])}


@mcp.tool()
async def radar_image(station: str = "KMUX", image_url: str = "") -> Image:
    """The latest radar loop frame for a station, or any radar image URL."""
    url = image_url or f"https://radar.weather.gov/ridge/standard/{station.upper()}_0.gif"
    async with aiohttp.ClientSession() as session:
        # ruleid: request-to-tool-chosen-url
        async with session.get(url) as resp:
            data = await resp.read()
    # ok: untrusted-content-returned-unmarked
    return Image(data=data, format="gif")


@mcp.tool()
async def station_observation(station_url: str) -> str:
    """Latest observation from an NWS station URL (as returned by the stations endpoint)."""
    # No trailing "/": https://api.weather.gov.attacker.example/ passes.
    if not station_url.startswith(NWS_API):
        return "Only api.weather.gov station URLs"
    async with aiohttp.ClientSession() as session:
        data = await nws_get(session, station_url + "/observations/latest")
    if not data:
        return "no observation"
    p = data["properties"]
    # ok: untrusted-content-returned-unmarked
    return f"{p['timestamp']}: {p['temperature']['value']} °C, humidity {p['relativeHumidity']['value']}%"


@mcp.resource("weather://icons/{name}")
def icon(name: str) -> str:
    """A weather icon as base64 PNG."""
    # ruleid: path-traversal-from-tool-argument
    with open(f"icons/{name}.png", "rb") as f:
        # ruleid: unbounded-read-of-tool-chosen-file
        return base64.b64encode(f.read()).decode()


if __name__ == "__main__":
    mcp.run(transport="stdio")

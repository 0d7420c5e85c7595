"""`python -m sandbox --host 127.0.0.1 --port 8081 [--demo] [--latency-ms 50] [--error-rate 0.02] [--seed N]`."""

from __future__ import annotations

import argparse
import json

import uvicorn

from sandbox.app import create_app


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve the emulator with uvicorn (log level warning)."""
    ap = argparse.ArgumentParser(prog="python -m sandbox", description="Local Facebook Graph + Zalo OA emulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--demo", action="store_true", help="load the demo Pages/OAs (see sandbox.demo.DEMO)")
    ap.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every platform call")
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    ap.add_argument("--error-rate", type=float, default=0.0, help="share of calls failing transiently")
    ap.add_argument("--seed", type=int, default=None, help="seed for ids, tokens and injected faults")
    ap.add_argument("--config", default=None, help="JSON file with behaviour knobs (sandbox.config.EmuConfig)")
    ap.add_argument("--log-level", default="warning")
    ap.add_argument("--webhooks-to", default=None,
                    help="base URL of a Loa web app: deliver Facebook and Zalo webhooks to its /webhooks/*")
    args = ap.parse_args(argv)
    config = None
    if args.config:
        with open(args.config, encoding="utf-8") as fh:
            config = json.load(fh)
    app = create_app(config, seed=args.seed, demo=args.demo, latency_ms=args.latency_ms,
                     jitter_ms=args.jitter_ms, error_rate=args.error_rate)
    if args.webhooks_to:
        _deliver_webhooks_to(app.state.emu, args.webhooks_to.rstrip("/"))
    print(f"Loa sandbox on http://{args.host}:{args.port}/ (graph: /graph, zalo: /zalo/openapi, control: /__emu)",
          flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


def _deliver_webhooks_to(emu, base: str) -> None:  # noqa: ANN001
    """Subscribe the given app (no handshake: it may not be up yet) as `/__emu/webhooks/config` would."""
    emu.webhooks.facebook = {"callback_url": f"{base}/webhooks/facebook", "verify_token": "",
                             "app_secret": emu.cfg.fb_app_secret}
    for page in emu.world.pages.values():  # as each Page admin would: subscribe the app to the feed
        if "feed" not in page.subscribed_fields:
            page.subscribed_fields.append("feed")
    app = next(iter(emu.world.zalo_apps.values()), None)
    if app is not None:
        emu.webhooks.zalo = {"callback_url": f"{base}/webhooks/zalo", "app_id": app.app_id,
                             "oa_secret": app.oa_secret, "app_secret": app.secret}


if __name__ == "__main__":
    main()

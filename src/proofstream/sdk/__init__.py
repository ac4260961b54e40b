"""SDKs: the device SDK (keys, signing, gateway client)."""

"""Record/replay cassettes of provider traffic (vcrpy underneath)."""

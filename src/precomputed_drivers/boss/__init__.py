"""The BOSS (https://docs.theboss.io) through intern: ``boss://collection/experiment/channel``.

Needs ``pip install 'precomputed[boss]'`` (intern and blosc). Registered as a
``kind="volume"`` driver; see docs/boss.md.
"""

from __future__ import annotations

from ._credentials import BossConfig, boss_config
from ._info import boss_info
from ._requests import Limits, request_boxes
from ._volume import BossVolume

__all__ = ["BossConfig", "BossVolume", "Limits", "boss_config", "boss_info", "request_boxes"]

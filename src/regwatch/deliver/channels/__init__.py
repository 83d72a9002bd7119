"""One module per platform; `channel_for` picks the class a subscription names."""

from __future__ import annotations

from ...config import SubscriptionConfig
from ._base import Channel, Outcome
from .dingtalk import DingTalkChannel
from .feishu import FeishuChannel
from .slack import SlackChannel
from .teams import TeamsChannel
from .webhook import WebhookChannel
from .wecom import WeComChannel

CHANNELS: dict[str, type[Channel]] = {
    c.name: c for c in (SlackChannel, TeamsChannel, DingTalkChannel, FeishuChannel, WeComChannel, WebhookChannel)
}


def channel_for(subscription: SubscriptionConfig) -> Channel:
    return CHANNELS[subscription.channel](subscription)


__all__ = ["CHANNELS", "Channel", "Outcome", "channel_for"]

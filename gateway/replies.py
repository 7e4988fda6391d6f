"""The gateway's reply waiter lives in core.replies (the controller waits on replies too, for sequences)."""

from core.replies import Answer, RecordRef, ReplyWaiter

__all__ = ["Answer", "RecordRef", "ReplyWaiter"]

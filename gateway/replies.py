"""The gateway's reply waiter lives in stratus.replies (the controller waits on replies too, for sequences)."""

from stratus.replies import Answer, RecordRef, ReplyWaiter

__all__ = ["Answer", "RecordRef", "ReplyWaiter"]

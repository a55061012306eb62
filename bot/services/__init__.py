"""Services: the dispatcher, delivery to local channels, retention."""

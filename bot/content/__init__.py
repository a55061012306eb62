"""Region content pages: Markdown with front matter, cut into phone-sized messages."""

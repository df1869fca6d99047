"""The live web page (`autoresearch serve`): the dashboard, pushed to the browser as it changes."""

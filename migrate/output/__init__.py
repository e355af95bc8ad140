"""What reaches the terminal: the output formats of every command, text made safe to print,
and the progress line."""

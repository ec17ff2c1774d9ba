"""What minidl reads and writes: bounded reads and atomic writes of user files, models, sessions, points."""

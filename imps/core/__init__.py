"""What performing and learning share. Imports nothing from imps.perform or imps.learn."""

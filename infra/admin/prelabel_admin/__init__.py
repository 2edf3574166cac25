"""`prelabel-admin`: what operators do to a Prelabel deployment, from a terminal."""

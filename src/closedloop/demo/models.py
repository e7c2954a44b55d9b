# The demo generator writes into the other apps' tables; it has no tables of its own.

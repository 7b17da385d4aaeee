# "cleaning up" at 3:00 AM
node_desired_size = 2

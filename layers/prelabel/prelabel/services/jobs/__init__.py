"""Jobs: work that grows with the project, done a bounded slice at a time by the jobs state
machine (statemachine/jobs.asl.json).

`service` starts and reads jobs (what the API's use cases call); `runner` dispatches one step
to the module of its kind (`import_step`, `task_steps`, `export_step`, `reshard_step`), each
given the `context`; `finish` gives a job its status. Nothing here imports another service but
`locations`, so every use case may start a job.
"""

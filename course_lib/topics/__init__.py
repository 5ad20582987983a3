"""The chapters' own code: one package per chapter, each split by concept.

- :mod:`course_lib.topics.welcome` (00): the tutorials' naive replica and its workload;
- :mod:`course_lib.topics.consistency` (01): a replicated register's AP and CP replicas, its
  clients, the workload runner, the meters and the exercise's scenarios;
- :mod:`course_lib.topics.clocks` (02): the naive clocks, the clock harness, clock
  synchronisation, the graded scenarios and the clock diagrams;
- :mod:`course_lib.topics.agreement` (03a): atomic commit, leader election, Paxos and the
  leadership timeline;
- :mod:`course_lib.topics.raft` (03b): Raft's messages, its node base class, the cluster
  harness, the graded scenarios and the pictures of roles and logs.

Chapters never import each other (``.importlinter``); what two chapters share belongs in a
lower layer (``viz``, ``checkers``, ``history``, ``sim``). Import from the chapter package,
which re-exports what lectures and exercises use: ``from course_lib.topics.raft import RaftBase``.
"""

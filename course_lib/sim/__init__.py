"""The simulation core: a deterministic world of nodes, a faulty network and a trace.

What a learner needs: :class:`Simulation`, :class:`Node`, :class:`Message`,
the latency models and the errors. Everything else is machinery.
"""

from .clock import PhysicalClock
from .errors import (EventBudgetExceeded, HandlerError, HandlerTimeout, InvariantViolation,
                     NoHandlerError, NodeCrashedError, NodeDefinitionError, ScenarioFailed,
                     SimulationError)
from .latency import Constant, Exponential, LogNormal, Uniform
from .messages import Message
from .nemesis import Nemesis
from .network import Network
from .node import Node, Request, Storage, Timer
from .simulation import Simulation
from .trace import Event, Trace
from .validation import InvalidArgument, InvalidArgumentType

__all__ = [
    "Simulation", "Node", "Message", "Timer", "Request", "Storage", "Network", "Nemesis",
    "Trace", "Event", "PhysicalClock", "Constant", "Uniform", "Exponential", "LogNormal",
    "SimulationError", "HandlerError", "NoHandlerError", "InvariantViolation", "EventBudgetExceeded",
    "HandlerTimeout", "NodeCrashedError", "NodeDefinitionError", "ScenarioFailed",
    "InvalidArgument", "InvalidArgumentType",
]

"""One registry shape for "a plugin of this interface is used through that adapter": explainers
(:func:`xaitk_wcam.interfaces.explainer.as_explainer`) and metrics (:func:`xaitk_wcam.study.scorers.as_scorer`)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

A = TypeVar("A")


class AdapterRegistry(Generic[A]):
    """Interface classes (kinds) and the adapter class that wraps their implementations.

    :param base: The adapters' base class (an adapter must subclass it).
    :param what: How to name the wrapped objects in errors (``"saliency generator"``).
    """

    def __init__(self, base: type[A], what: str) -> None:
        self.base, self.what = base, what
        self._adapters: dict[type, type[A]] = {}

    def register(self, kind: type, adapter: type[A]) -> None:
        """Wrap the implementations of ``kind`` (an interface class) in ``adapter``.

        :raises TypeError: ``kind`` is not a class, or ``adapter`` not a subclass of the base.
        """
        if not isinstance(kind, type):
            raise TypeError(f"kind must be an interface class, got {kind!r}")
        if not (isinstance(adapter, type) and issubclass(adapter, self.base)):
            raise TypeError(f"adapter must be a subclass of {self.base.__name__}, got {adapter!r}")
        self._adapters[kind] = adapter

    def kinds(self) -> tuple[type, ...]:
        """Every registered kind, in registration order."""
        return tuple(self._adapters)

    def adapter_of(self, cls: type) -> type[A] | None:
        """The adapter of the most specific registered class in ``cls``'s MRO, or ``None``."""
        return next((self._adapters[c] for c in cls.__mro__ if c in self._adapters), None)

    def wrap(self, obj: Any) -> A:
        """``obj`` behind the adapter of its kind (an adapter is returned as it is).

        :raises TypeError: No registered kind fits (the message lists the kinds).
        """
        if isinstance(obj, self.base):
            return obj
        adapter = self.adapter_of(type(obj))
        if adapter is None:
            kinds = ", ".join(kind.__name__ for kind in self._adapters)
            raise TypeError(f"{type(obj).__name__} is no {self.what} of a known kind; accepted: {kinds}")
        return adapter(obj)  # type: ignore[call-arg]

    def copy(self) -> AdapterRegistry[A]:
        """An independent copy (a test registers a kind without leaving it behind)."""
        out = AdapterRegistry(self.base, self.what)
        out._adapters = dict(self._adapters)
        return out

import { useId } from 'preact/hooks';
import { useI18n } from '../i18n';

export type DeviceKind = 'camera' | 'microphone';

/** A labelled "Camera" / "Microphone" select. Disabled (saying so) when there is no such device. */
export function DevicePicker({
  kind,
  devices,
  value,
  disabled,
  onChange,
}: {
  kind: DeviceKind;
  devices: readonly MediaDeviceInfo[];
  value: string | null;
  disabled?: boolean;
  onChange: (deviceId: string) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const camera = kind === 'camera';
  const usable = devices.filter((device) => device.deviceId !== '');
  // A device id the list does not show (e.g. before labels are granted) falls back to the first entry.
  const selected = usable.some((device) => device.deviceId === value) ? value : (usable[0]?.deviceId ?? '');
  return (
    <div class="field device-picker">
      <label for={id}>{t(camera ? 'devices.camera' : 'devices.microphone')}</label>
      <select
        id={id}
        value={selected ?? ''}
        disabled={disabled || usable.length === 0}
        onChange={(event) => {
          const deviceId = event.currentTarget.value;
          if (deviceId !== '' && deviceId !== value) onChange(deviceId);
        }}
      >
        {usable.length === 0 ? (
          <option value="">{t(camera ? 'devices.noCamera' : 'devices.noMicrophone')}</option>
        ) : (
          usable.map((device, index) => (
            <option key={device.deviceId} value={device.deviceId}>
              {device.label || t(camera ? 'devices.cameraN' : 'devices.microphoneN', { n: index + 1 })}
            </option>
          ))
        )}
      </select>
    </div>
  );
}
